"""Provides what the scenarios' pools and tasks are made of: a Linux image, shell commands."""

from __future__ import annotations

UBUNTU = {
    "imageReference": {
        "publisher": "canonical",
        "offer": "0001-com-ubuntu-server-jammy",
        "sku": "22_04-lts",
        "version": "latest",
    },
    "nodeAgentSKUId": "batch.node.ubuntu 22.04",
}


def sh(script: str) -> str:
    """Returns a command line that runs `script` with /bin/sh, as on a Linux node."""
    return "/bin/sh -c " + "'" + script.replace("'", "'\"'\"'") + "'"
