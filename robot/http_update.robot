*** Settings ***
Documentation     A browser-style multipart upload of v2 over HTTP, a reboot, and v2 runs.
Resource          bench.resource
Suite Setup       Start Board With V1
Suite Teardown    Stop Board

*** Test Cases ***
V2 Is Staged By HTTP
    Upload Image Via HTTP    app-v2.img    mode=multipart
    Upload Should Be Accepted
    Staging Slot Should Hold    app-v2.img
    Application Slot Should Hold    app-v1.img

Reboot Runs V2
    Reboot Board
    Board Should Run Version    2
    Application Slot Should Hold    app-v2.img
    Status Should Report    journal.state    DONE
