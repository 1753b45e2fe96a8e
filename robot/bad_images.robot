*** Settings ***
Documentation     Images made bad by `python -m pybench image corrupt` are refused with a
...               reason, and v1 keeps running untouched.
Resource          bench.resource
Suite Setup       Start Board With V1
Suite Teardown    Stop Board
Test Template     Bad Image Is Rejected

*** Test Cases ***    FAULT
Wrong Magic           magic
Wrong Target          target
Wrong Digest          digest
Truncated             truncate
Header CRC            header-crc
Oversize              oversize
Empty Body            empty

*** Keywords ***
Bad Image Is Rejected
    [Arguments]    ${fault}
    ${image}=    Create Corrupt Image    ${fault}
    Upload Image Via HTTP    ${image}
    Upload Should Be Rejected
    Application Slot Should Hold    app-v1.img
    Status Should Report    version_number    1
