"""The demo districts (`manage.py seed_demo`): the one place that drives every app's services at once,
so it stands above them all."""
