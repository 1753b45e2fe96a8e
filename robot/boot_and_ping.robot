*** Settings ***
Documentation     The board boots its old image, comes up on the network and answers ping
...               and HTTP.
Resource          bench.resource
Suite Setup       Start Board With Old Image
Suite Teardown    Stop Board

*** Test Cases ***
Bootloader Hands Over To The Old Image
    ${version}=    Image Version    old
    Console Should Show Version    ${version}

Board Answers Ping
    ${rtts}=    Ping Board    count=3
    Length Should Be    ${rtts}    3

Probe Reports The Old Version
    ${version}=    Image Version    old
    Probe Should Report Version    ${version}

Page Offers The Upload Form
    [Tags]    sample
    ${page}=    HTTP Request Should Answer    GET    /    200
    Should Contain    ${page}    action="/update"

Unknown Path Is Not Found
    [Tags]    sample
    HTTP Request Should Answer    GET    /nope    404
