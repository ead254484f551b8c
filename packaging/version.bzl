"""ASP's release version: the Debian package's and the pkg-config files'."""

ASP_VERSION = "0.1.0"
