// The collector reads procfs and the tests make Linux fds (eventfd, FIFOs, setfsuid): Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
