# devices/model-glue: the host-side hooks (one IRQ line, the clock, one
# timer, a character backend) that the simple register models' plugins
# share, linked into each of them as a convenience library.
noinst_LTLIBRARIES += devices/model-glue/libmodel-glue.la
devices_model_glue_libmodel_glue_la_SOURCES = devices/model-glue/model-glue.c \
	devices/model-glue/model-glue.h
devices_model_glue_libmodel_glue_la_CFLAGS = $(plugin_cflags)
# The table-driven saved-state fields (ABI 1.12) the PC devices share;
# header only.
EXTRA_DIST += devices/model-glue/state-fields.h
