"""The STM32F405/407 peripheral map (RM0090 table 1, "register boundary addresses").

The machine uses it for what no model answers: an access inside a block the chip has
but the bench does not model names that block and its offset (and, by default, reads 0
and drops writes, so the firmware runs on and the user learns where the bench is blind);
an access outside every block is a bus error on the chip and a BusFault here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Block:
    name: str
    base: int
    size: int

    @property
    def end(self) -> int:
        return self.base + self.size


def _blocks() -> tuple[Block, ...]:
    k = 0x400
    apb1 = [("TIM2", 0x40000000), ("TIM3", 0x40000400), ("TIM4", 0x40000800),
            ("TIM5", 0x40000C00), ("TIM6", 0x40001000), ("TIM7", 0x40001400),
            ("TIM12", 0x40001800), ("TIM13", 0x40001C00), ("TIM14", 0x40002000),
            ("RTC_BKP", 0x40002800), ("WWDG", 0x40002C00), ("IWDG", 0x40003000),
            ("I2S2ext", 0x40003400), ("SPI2", 0x40003800), ("SPI3", 0x40003C00),
            ("I2S3ext", 0x40004000), ("USART2", 0x40004400), ("USART3", 0x40004800),
            ("UART4", 0x40004C00), ("UART5", 0x40005000), ("I2C1", 0x40005400),
            ("I2C2", 0x40005800), ("I2C3", 0x40005C00), ("CAN1", 0x40006400),
            ("CAN2", 0x40006800), ("PWR", 0x40007000), ("DAC", 0x40007400)]
    apb2 = [("TIM1", 0x40010000), ("TIM8", 0x40010400), ("USART1", 0x40011000),
            ("USART6", 0x40011400), ("ADC", 0x40012000), ("SDIO", 0x40012C00),
            ("SPI1", 0x40013000), ("SYSCFG", 0x40013800), ("EXTI", 0x40013C00),
            ("TIM9", 0x40014000), ("TIM10", 0x40014400), ("TIM11", 0x40014800)]
    ahb1 = [(f"GPIO{port}", 0x40020000 + i * k) for i, port in enumerate("ABCDEFGHI")]
    ahb1 += [("CRC", 0x40023000), ("RCC", 0x40023800), ("FLASH", 0x40023C00)]
    blocks = [Block(n, b, k) for n, b in apb1 + apb2 + ahb1]
    blocks += [
        Block("BKPSRAM", 0x40024000, 0x1000),
        Block("DMA1", 0x40026000, k), Block("DMA2", 0x40026400, k),
        Block("ETH", 0x40028000, 0x1400),
        Block("USB_OTG_HS", 0x40040000, 0x40000),
        Block("USB_OTG_FS", 0x50000000, 0x40000),
        Block("DCMI", 0x50050000, k), Block("CRYP", 0x50060000, k),
        Block("HASH", 0x50060400, k), Block("RNG", 0x50060800, k),
        Block("FSMC", 0xA0000000, 0x1000),
        Block("ITM", 0xE0000000, 0x1000), Block("DWT", 0xE0001000, 0x1000),
        Block("FPB", 0xE0002000, 0x1000), Block("TPIU", 0xE0040000, 0x1000),
        Block("DBGMCU", 0xE0042000, k),
    ]
    return tuple(sorted(blocks, key=lambda b: b.base))


BLOCKS = _blocks()


def block_at(addr: int) -> Block | None:
    """The peripheral block holding addr, or None (a reserved address)."""
    for b in BLOCKS:
        if b.base <= addr < b.end:
            return b
    return None


def describe(addr: int) -> str:
    """'TIM8+0x010 (0x40010410)' for an address in a block, else the bare address."""
    b = block_at(addr)
    if b is None:
        return f"0x{addr:08x}"
    return f"{b.name}+0x{addr - b.base:03x} (0x{addr:08x})"
