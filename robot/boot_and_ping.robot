*** Settings ***
Documentation     The board boots v1, comes up on the network and answers ping and HTTP.
Resource          bench.resource
Suite Setup       Start Board With V1
Suite Teardown    Stop Board

*** Test Cases ***
Bootloader Hands Over To V1
    Console Should Contain    boot:
    Console Should Contain    app: firmware v1

Board Answers Ping
    ${rtts}=    Ping Board    count=3
    Length Should Be    ${rtts}    3

Status Reports Version 1
    Status Should Report    version_number    1

Page Offers The Upload Form
    ${page}=    HTTP Request Should Answer    GET    /    200
    Should Contain    ${page}    action="/update"

Unknown Path Is Not Found
    HTTP Request Should Answer    GET    /nope    404
