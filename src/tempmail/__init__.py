"""tempmail: a self-hosted disposable-email server (cloudflare_temp_email compatible API)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tempmail")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"
