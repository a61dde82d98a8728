"""The autoscale formula language: its parser, values and evaluation."""
