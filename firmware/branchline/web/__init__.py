"""The agents' console and the supervisor's wallboard: one application (microdot) for
CPython and MicroPython, its accounts and sessions, the live feed and the shipped pages."""
