/* vmmctl - placeholder until the core lands */
#include "config.h"
int main(void) { return 0; }
