"""Screens of the app: the main four-pane screen, help, and small modals."""
