"""The account's operations without HTTP: routes, job schedules, auto pools, the autoscaler and
the scenarios all call them."""
