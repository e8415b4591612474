# plugins/char-stdio
