__version__ = "0.1.0"

__all__ = ["__version__", "install_as_starlette"]


def install_as_starlette() -> None:
    """Make `import starlette` and `import starlette.<sub>` give fastframe's own modules (see
    fastframe._as_starlette). Call it before the application, or FastAPI, is imported; raises
    RuntimeError when a real starlette module was imported already."""
    # Imported on use: an application that never calls it does not load the import machinery.
    from fastframe._as_starlette import install_as_starlette as install

    install()
