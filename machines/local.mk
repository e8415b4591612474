# machines
