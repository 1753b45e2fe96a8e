/* fake_staging.c - staging.h recording what HTTP and TFTP hand to it. */
#include <string.h>

#include "console.h"
#include "fakes.h"
#include "staging.h"

struct fake_staging fake_staging;
static enum staging_state state;
static char reason[96];

void fake_staging_reset(void)
{
    memset(&fake_staging, 0, sizeof fake_staging);
    state = STAGING_IDLE;
    reason[0] = '\0';
}

static int reject(int st, const char *why)
{
    strcpy(reason, why);
    state = STAGING_REJECTED;
    return st;
}

int staging_begin(uint32_t expected_size)
{
    if (state == STAGING_RECEIVING)
        return STAGING_ERR_BUSY;
    fake_staging.begins++;
    fake_staging.expected = expected_size;
    fake_staging.len = 0;
    reason[0] = '\0';
    state = STAGING_RECEIVING;
    if (fake_staging.limit && expected_size > fake_staging.limit)
        return reject(STAGING_ERR_TOO_LARGE, "image too large");
    return STAGING_OK;
}

int staging_write(const uint8_t *data, size_t len)
{
    if (state != STAGING_RECEIVING)
        return STAGING_ERR_STATE;
    if ((fake_staging.limit && fake_staging.len + len > fake_staging.limit) ||
        fake_staging.len + len > sizeof fake_staging.data)
        return reject(STAGING_ERR_TOO_LARGE, "image too large");
    memcpy(fake_staging.data + fake_staging.len, data, len);
    fake_staging.len += len;
    return STAGING_OK;
}

int staging_finish(void)
{
    if (state != STAGING_RECEIVING)
        return STAGING_ERR_STATE;
    fake_staging.finishes++;
    if (fake_staging.fail_finish)
        return reject(STAGING_ERR_INVALID, "verification failed: digest");
    state = STAGING_STAGED;
    return STAGING_OK;
}

void staging_abort(const char *why)
{
    if (state == STAGING_RECEIVING) {
        fake_staging.aborts++;
        (void)reject(STAGING_ERR_INVALID, why);
    }
}

enum staging_state staging_state(void)
{
    return state;
}

const char *staging_state_name(enum staging_state s)
{
    return s == STAGING_STAGED ? "staged" : s == STAGING_RECEIVING ? "receiving" :
           s == STAGING_REJECTED ? "rejected" : "idle";
}

uint32_t staging_bytes(void)
{
    return (uint32_t)fake_staging.len;
}

uint32_t staging_version(void)
{
    return 7;
}

const char *staging_error(void)
{
    return reason;
}

uint32_t staging_floor(void)
{
    return 3;
}
