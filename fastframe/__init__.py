__version__ = "0.1.0"

from fastframe._as_starlette import install_as_starlette

__all__ = ["__version__", "install_as_starlette"]
