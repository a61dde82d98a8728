"""The account's state: the store of every entity, and its durability on disk."""
