*** Settings ***
Documentation     v3 over TFTP (octet mode, blksize negotiated), a reboot, and v3 runs.
Resource          bench.resource
Suite Setup       Start Board With V1
Suite Teardown    Stop Board

*** Test Cases ***
V3 Is Staged By TFTP
    Upload Image Via TFTP    app-v3.img
    Upload Should Be Accepted
    Staging Slot Should Hold    app-v3.img

Reboot Runs V3
    Reboot Board
    Board Should Run Version    3
    Application Slot Should Hold    app-v3.img
