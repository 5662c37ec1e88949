"""Shared by every test folder: pytest puts this folder on sys.path, so the tests can
``import offline`` (serving a folder on 127.0.0.1, opening pages with the network cut off)
and ``import chapters`` (the chapter list of _toc.yml)."""
