/* update_flag.c - see update_flag.h. */
#include "update_flag.h"

#include "crc32.h"
#include "flash.h"
#include "flash_layout.h"

#define ERASED 0xFFFFFFFFu

void update_flag_read(struct update_flag *f)
{
    flash_read(FLAG_AREA_ADDR + FLAG_WORD_OFFSET, &f->flag, 4);
    flash_read(FLAG_AREA_ADDR + FLAG_SIZE_OFFSET, &f->size, 4);
    flash_read(FLAG_AREA_ADDR + FLAG_CRC_OFFSET, &f->crc, 4);
}

int update_flag_is_set(const struct update_flag *f)
{
    return f->flag == FLAG_SET_VALUE;
}

int update_flag_erased(void)
{
    struct update_flag f;

    update_flag_read(&f);
    return f.flag == ERASED && f.size == ERASED && f.crc == ERASED;
}

int update_flag_clear(void)
{
    return flash_erase_sector(FLAG_AREA_SECTOR);
}

int update_flag_commit(uint32_t size, uint32_t crc)
{
    const uint32_t flag = FLAG_SET_VALUE;
    int st = flash_program(FLAG_AREA_ADDR + FLAG_SIZE_OFFSET, &size, 4);

    if (st == FLASH_OK)
        st = flash_program(FLAG_AREA_ADDR + FLAG_CRC_OFFSET, &crc, 4);
    if (st == FLASH_OK)
        st = flash_program(FLAG_AREA_ADDR + FLAG_WORD_OFFSET, &flag, 4);
    return st;
}

static int in_ram(uint32_t sp, uint32_t base, uint32_t size)
{
    /* The stack grows down from sp: the top of a region is a valid start. */
    return sp > base && sp - base <= size;
}

int update_vectors_ok(uint32_t initial_sp, uint32_t reset_handler)
{
    uint32_t entry = reset_handler & ~1u;

    if ((initial_sp & 3u) != 0)
        return 0;
    if (!in_ram(initial_sp, SRAM_BASE_ADDR, SRAM_TOTAL_SIZE) &&
        !in_ram(initial_sp, CCM_BASE_ADDR, CCM_TOTAL_SIZE))
        return 0;
    return (reset_handler & 1u) && entry >= APP_SLOT_ADDR &&
           entry - APP_SLOT_ADDR < APP_SLOT_SIZE;
}

uint32_t update_crc(uint32_t addr, uint32_t size)
{
    uint8_t buf[256];
    uint32_t crc = 0, done, n;

    for (done = 0; done < size; done += n) {
        n = size - done < sizeof buf ? size - done : (uint32_t)sizeof buf;
        flash_read(addr + done, buf, n);
        crc = crc32_update(crc, buf, n);
    }
    return crc;
}

const char *update_image_problem(uint32_t addr, uint32_t size, uint32_t crc, int check_crc)
{
    uint32_t vec[2];

    if (size < sizeof vec)
        return "image smaller than a vector table";
    if (size > APP_SLOT_SIZE)
        return "image larger than the application slot";
    flash_read(addr, vec, sizeof vec);
    if (!update_vectors_ok(vec[0], vec[1]))
        return "vector table not for the application slot";
    if (check_crc && update_crc(addr, size) != crc)
        return "CRC mismatch";
    return 0;
}
