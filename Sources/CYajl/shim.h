#ifndef SLUICE_CYAJL_SHIM_H
#define SLUICE_CYAJL_SHIM_H
#include <yajl/yajl_parse.h>
#include <yajl/yajl_gen.h>
#endif
