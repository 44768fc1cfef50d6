using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Fleet.Server.Tests.EndToEnd;

/// <summary>
/// Real TCP sockets on 127.0.0.1 held by this test process: listeners, and clients left in CLOSE_WAIT
/// (connected, accepted, then the accepted side closed). Synchronous calls only, every wait bounded; all closed
/// on dispose.
/// </summary>
internal sealed class LoopbackCloseWait : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly List<Socket> _owned = [];

    /// <summary>A listener on 127.0.0.1 and a free port: the remote endpoint the CLOSE_WAIT sockets will point to.</summary>
    public Socket Listen()
    {
        var listener = Own(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(16);
        return listener;
    }

    /// <summary>A client toward <paramref name="listener"/> whose peer closed: the client sits in CLOSE_WAIT until disposed.</summary>
    public Socket CloseWait(Socket listener)
    {
        var target = (IPEndPoint)listener.LocalEndPoint!;
        var client = Own(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        client.Blocking = false;
        try
        {
            client.Connect(target);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
        {
            Assert.True(client.Poll(Timeout, SelectMode.SelectWrite), $"connect to {target} did not complete");
        }
        client.Blocking = true;
        Assert.True(listener.Poll(Timeout, SelectMode.SelectRead), $"nothing to accept on {target}");
        using (var accepted = listener.Accept())
        {
            // Disposed here: the FIN puts the client into CLOSE_WAIT.
        }
        Assert.True(client.Poll(Timeout, SelectMode.SelectRead), "the peer's FIN did not arrive");
        WaitForState(client, TcpState.CloseWait);
        return client;
    }

    public static int Port(Socket socket) => ((IPEndPoint)socket.LocalEndPoint!).Port;

    /// <summary>Polls the kernel's table (read by the BCL, not by the agent's collector) until the socket is in <paramref name="state"/>.</summary>
    private static void WaitForState(Socket socket, TcpState state)
    {
        var local = (IPEndPoint)socket.LocalEndPoint!;
        var remote = (IPEndPoint)socket.RemoteEndPoint!;
        var clock = Stopwatch.StartNew();
        while (!IPGlobalProperties.GetIPGlobalProperties().GetActiveTcpConnections()
            .Any(c => c.LocalEndPoint.Port == local.Port && c.RemoteEndPoint.Port == remote.Port && c.State == state))
        {
            Assert.True(clock.Elapsed < Timeout, $"socket {local} -> {remote} did not reach {state} within {Timeout.TotalSeconds} s");
            Thread.Sleep(10);
        }
    }

    private Socket Own(Socket socket)
    {
        _owned.Add(socket);
        return socket;
    }

    public void Dispose()
    {
        foreach (var socket in _owned)
        {
            socket.Dispose();
        }
        _owned.Clear();
    }
}
