"""Pure parsers: text in, typed records out. No I/O, so each is tested on recorded text."""
