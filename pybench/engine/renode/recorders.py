# Run inside Renode by the monitor (`include @recorders.py`), in its IronPython 2.7
# engine, where `monitor` is the Monitor object. Records, into files of the mailbox
# directory $PYBENCH_RENODE_MAILBOX that the bench reads after each run step:
# - every Ethernet frame the board sends (the MAC's FrameReady event), as a line
#   "time_ns hexbytes" in frames-out.txt,
# - every byte the console UART sends (its CharReceived event), in console.txt.
# Both are written from the emulation thread as the board sends them, so when a RunFor
# returns everything sent until then is in the files. (A server socket terminal hands
# bytes to a writer thread: they can arrive after the step that sent them.)
# And defines pybench_send(hex), which the bench calls (`python "pybench_send('...')"`)
# to give the MAC a frame: Renode 1.16.1's SynopsysEthernetMAC formats every frame it
# receives for its log before looking at it, with PacketDotNet, and a frame PacketDotNet
# cannot parse (an IPv4 header length past the data, say) kills the whole process. Such a
# frame is not delivered; a line "reason" goes to frames-dropped.txt instead.
# Not imported by pybench; ruff sees it as Python 3, hence the noqa on Renode's names
# and on %-formatting (f-strings do not exist in IronPython 2.7).
# ruff: noqa: UP031


def _pybench_recorders():
    import sys

    from Antmicro.Renode.Core import EmulationManager
    from Antmicro.Renode.Network import EthernetFrame
    from Antmicro.Renode.Time import TimeInterval, TimeStamp
    from System import Action, Array, Byte, Environment
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

    receive = Action[EthernetFrame](mac.ReceiveFrame)
    dropped_path = mailbox + "/frames-dropped.txt"

    def send(hex_bytes):
        data = Array[Byte](bytearray.fromhex(hex_bytes))
        why = None
        try:
            ok, frame = EthernetFrame.TryCreateEthernetFrame(data, False)
            if ok:
                frame.ToString()
            else:
                why = "not an Ethernet frame"
        except:  # noqa: E722 - a .NET exception from PacketDotNet, whatever its type
            why = "Renode cannot parse it: %s" % str(sys.exc_info()[1]).splitlines()[0]
        if why is not None:
            File.AppendAllText(dropped_path, "%d %s\n" % (len(data), why))
            return
        # What NetworkInterfaceTester.SendFrame does, without a tester that would keep
        # every frame the board sends: the MAC receives it at the current virtual time.
        when = TimeStamp(TimeInterval.Empty, EmulationManager.ExternalWorld)
        mach.HandleTimeDomainEvent[EthernetFrame](receive, frame, when)

    return send


pybench_send = _pybench_recorders()
