"""One module per console page: thin routes that parse the form, call a service, render."""
