/* placeholder: the real implementation replaces this file */
#include "config.h"
#include <errno.h>
#include "core/props.h"
