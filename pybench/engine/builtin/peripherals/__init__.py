"""The STM32F407's peripheral models, one file each, named as RM0090 names the block
(rcc.py is RCC, tim.py the general-purpose and basic timers, iwdg.py the independent
watchdog, ...); phy.py is the Ethernet PHY chip on the board. Every module here is found
by the registry (registry.py), which builds one model per .repl entry of a type the
model's `repl_types` names. The Cortex-M4's own parts (NVIC/SCB/SysTick, DWT, MPU) live
with the core in pybench/engine/builtin/.
"""
