"""Board descriptions: platforms/*.repl parsed into data the built-in engine builds from."""
