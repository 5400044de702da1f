"""The registry's benchmark (`make bench`, see bench/run.py) and the helpers its tests share."""
