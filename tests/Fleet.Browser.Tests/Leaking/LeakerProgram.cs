using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Fleet.Browser.Tests.Leaking;

/// <summary>
/// The test assembly's entry point, used only when <see cref="CloseWaitLeaker"/> runs it as a separate OS process:
/// <c>dotnet Fleet.Browser.Tests.dll leak-close-wait PORT MAX EVERY_MS LIFETIME_S PARENT_PID MARKER</c> connects to
/// 127.0.0.1:PORT every EVERY_MS milliseconds, at most MAX times, and never closes a socket, so each one sits in
/// CLOSE_WAIT once the listener closed its end. It exits after LIFETIME_S seconds or when PARENT_PID is gone,
/// whichever comes first (the test kills it sooner). MARKER only makes its command line unique for grouping.
/// </summary>
internal static class LeakerProgram
{
    public const string Command = "leak-close-wait";

    public static int Main(string[] args)
    {
        if (args.Length != 7 || args[0] != Command)
        {
            Console.Error.WriteLine($"usage: {Command} PORT MAX EVERY_MS LIFETIME_S PARENT_PID MARKER");
            return 2;
        }
        int port = int.Parse(args[1], CultureInfo.InvariantCulture);
        int max = int.Parse(args[2], CultureInfo.InvariantCulture);
        var every = TimeSpan.FromMilliseconds(int.Parse(args[3], CultureInfo.InvariantCulture));
        var lifetime = TimeSpan.FromSeconds(int.Parse(args[4], CultureInfo.InvariantCulture));
        int parent = int.Parse(args[5], CultureInfo.InvariantCulture);

        var held = new List<Socket>(max);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < lifetime && Directory.Exists($"/proc/{parent.ToString(CultureInfo.InvariantCulture)}"))
        {
            if (held.Count < max)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
                    held.Add(socket);
                    Console.Out.WriteLine(held.Count.ToString(CultureInfo.InvariantCulture));
                    Console.Out.Flush();
                }
                catch (SocketException e)
                {
                    socket.Dispose();
                    Console.Error.WriteLine($"connect to 127.0.0.1:{port} failed: {e.SocketErrorCode}");
                    return 1;
                }
            }
            // This process's own pacing, not a test's synchronisation.
            Thread.Sleep(every);
        }
        GC.KeepAlive(held);
        return 0;
    }
}
