"""tapeflow.compiler: source transformation of Python functions into their gradients."""
