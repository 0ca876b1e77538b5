"""The owner's analytics dashboard: daily numbers for a business, with server-drawn SVG charts."""
