"""WTForms classes, one module per area; they never import the app."""
