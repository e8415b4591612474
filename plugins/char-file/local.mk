# plugins/char-file
