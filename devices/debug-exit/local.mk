# devices/debug-exit
