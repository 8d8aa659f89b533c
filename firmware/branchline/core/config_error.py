"""The one error of a configuration that cannot be used: its message names the key path
(`desks[1].cap: must be 1..3, got 5`). Its own module so that every module checking a
part of the configuration raises it without importing the whole of config.py."""


class ConfigError(ValueError):
    pass
