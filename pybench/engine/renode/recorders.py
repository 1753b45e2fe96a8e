# Run inside Renode by the monitor (`include @recorders.py`), in its IronPython 2.7
# engine, where `monitor` is the Monitor object. Records, into files of the mailbox
# directory $PYBENCH_RENODE_MAILBOX that the bench reads after each run step:
# - every Ethernet frame the board sends (the MAC's FrameReady event), as a line
#   "time_ns hexbytes" in frames-out.txt,
# - every byte the console UART sends (its CharReceived event), in console.txt.
# Both are written from the emulation thread as the board sends them, so when a RunFor
# returns everything sent until then is in the files. (A server socket terminal hands
# bytes to a writer thread: they can arrive after the step that sent them.)
# Not imported by pybench; ruff sees it as Python 3, hence the noqa on Renode's names
# and on %-formatting (f-strings do not exist in IronPython 2.7).
# ruff: noqa: UP031


def _pybench_recorders():
    from System import Environment
    from System.IO import File, FileMode, FileStream

    mailbox = Environment.GetEnvironmentVariable("PYBENCH_RENODE_MAILBOX") or "."
    frames_path = mailbox + "/frames-out.txt"
    mach = monitor.Machine  # noqa: F821 - the monitor's own variable
    mac = mach["sysbus.ethernet"]
    uart = mach["sysbus.usart1"]
    console = FileStream(mailbox + "/console.txt", FileMode.Append)

    def on_frame(frame):
        elapsed = mach.ElapsedVirtualTime.TimeElapsed.TotalMicroseconds
        data = "".join("%02x" % b for b in frame.Bytes)
        File.AppendAllText(frames_path, "%d %s\n" % (int(elapsed) * 1000, data))

    def on_char(byte):
        console.WriteByte(byte)
        console.Flush()

    mac.FrameReady += on_frame
    uart.CharReceived += on_char


_pybench_recorders()
