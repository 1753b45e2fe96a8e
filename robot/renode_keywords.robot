*** Settings ***
Documentation     A suite written only in Renode's own keywords (and Robot's BuiltIn), as a
...               Renode user writes one: it runs unchanged on Renode and on the built-in
...               engine (`robot --variable ENGINE:builtin|renode`). pybench's
...               RenodeKeywords library offers the keywords: passed through to Renode's
...               own Robot server there, implemented over the built-in engine here.
Library           pybench.robot.RenodeKeywords
# ${PLATFORM}: the board's .repl as this engine loads it (Renode wants the script's path
# absolute).
Variables         pybench.robot.renode_platform    ${ENGINE}
Suite Setup       Create Board
Suite Teardown    Stop Remote Server

*** Variables ***
${ENGINE}         builtin
${BUILD}          ${CURDIR}/../build
# The application slot of firmware/include/flash_layout.h.
${APP_SLOT}       0x08010000
# An ARP request from 02:00:00:00:00:01 (192.168.7.1) for 192.168.7.2, padded to 60
# bytes, with its frame check sequence.
${ARP_REQUEST}    ffffffffffff02000000000108060001080006040001020000000001c0a80701000000000000c0a807020000000000000000000000000000000000000682ee14

*** Keywords ***
Create Board
    Execute Command    mach create "stm32f407"
    Execute Command    emulation SetGlobalAdvanceImmediately true
    Execute Command    machine LoadPlatformDescription @${PLATFORM}
    # MappedMemory starts as zeros on Renode: erased flash reads 0xFF.
    Execute Command    sysbus.flash SetRange 0 0x100000 0xFF
    # A software reset restarts from the vectors in flash.
    Execute Command    macro reset "cpu VectorTableOffset 0x08000000"
    Execute Command    sysbus LoadELF @${BUILD}/boot.elf
    Execute Command    sysbus LoadBinary @${BUILD}/app-v1.img ${APP_SLOT}
    Create Terminal Tester    sysbus.usart1    timeout=5
    Create Network Interface Tester    sysbus.ethernet
    Start Emulation

*** Test Cases ***
Bootloader Starts And Hands Over
    Wait For Line On Uart    boot: bootloader
    Wait For Line On Uart    app: firmware v1

Application Comes Up On The Network
    ${line}=    Wait For Line On Uart    net: up \\d+\\.\\d+\\.\\d+\\.\\d+    treatAsRegex=true
    Should Be True    $line

Board Answers ARP
    Send Frame    ${ARP_REQUEST}
    # An ARP reply (EtherType 0x0806, operation 2) among the next few frames it sends.
    Wait For Outgoing Packet With Bytes At Index    08060001080006040002    12    5    1

Paused, Run For A Time, Started Again
    Execute Command    pause
    Execute Command    emulation RunFor "00:00:00.100000"
    Execute Command    start
    Should Not Be On Uart    HardFault    timeout=0.1
