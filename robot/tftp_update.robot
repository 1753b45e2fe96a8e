*** Settings ***
Documentation     The newer image over TFTP (as the description says), a restart, and it runs.
Resource          bench.resource
Suite Setup       Start Board With Old Image
Suite Teardown    Stop Board

*** Test Cases ***
Newer Image Is Staged By TFTP
    Upload Image Via TFTP    newer
    Upload Should Be Accepted
    Staging Slot Should Hold    newer

Restart Runs The Newer Image
    Restart Board    via=tftp
    Board Should Run Image    newer
    Application Slot Should Hold    newer
