/* Status strings, generated from the same X-macro as the enum. */
#include "base.h"

const char *ts_status_str(ts_status st)
{
    switch (st) {
#define TS_STATUS_CASE(name, value, text)                                                          \
    case name:                                                                                     \
        return text;
        TS_STATUS_LIST(TS_STATUS_CASE)
#undef TS_STATUS_CASE
    }
    return "unknown status";
}
