# devices/uart16550
