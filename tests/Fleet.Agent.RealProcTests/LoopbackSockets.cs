using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Fleet.Agent.Tests.Collection.RealProc;

/// <summary>
/// Real loopback TCP sockets in known states, all owned here and closed on dispose. Every operation is
/// synchronous (no socket joins the runtime's epoll engine) and every wait is bounded.
/// </summary>
internal sealed class LoopbackSockets : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly List<Socket> _owned = [];

    public Socket Listen(IPAddress address)
    {
        var listener = Own(new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp));
        listener.Bind(new IPEndPoint(address, 0));
        listener.Listen(64);
        return listener;
    }

    /// <summary>A connected pair: the client and the side the listener accepted, both ESTABLISHED.</summary>
    public (Socket Client, Socket Server) Connect(Socket listener, bool dualMode = false)
    {
        var target = (IPEndPoint)listener.LocalEndPoint!;
        Socket client;
        if (dualMode)
        {
            // An IPv6 socket talking IPv4: the kernel lists it in tcp6 as ::ffff:a.b.c.d.
            client = Own(new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true });
            target = new IPEndPoint(target.Address.MapToIPv6(), target.Port);
        }
        else
        {
            client = Own(new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp));
        }
        client.Blocking = false;
        try
        {
            client.Connect(target);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
        {
            Assert.True(client.Poll(Timeout, SelectMode.SelectWrite), "connect did not complete");
        }
        client.Blocking = true;
        Assert.True(listener.Poll(Timeout, SelectMode.SelectRead), "nothing to accept");
        var server = Own(listener.Accept());
        WaitForState(client, System.Net.NetworkInformation.TcpState.Established);
        return (client, server);
    }

    /// <summary>A client whose peer has closed: the client side sits in CLOSE_WAIT, the closed side is an orphan.</summary>
    public Socket CloseWait(Socket listener, bool dualMode = false)
    {
        var (client, server) = Connect(listener, dualMode);
        Close(server);
        // The FIN makes the client readable (recv would return 0) once the kernel has processed it.
        Assert.True(client.Poll(Timeout, SelectMode.SelectRead), "the peer's FIN did not arrive");
        WaitForState(client, System.Net.NetworkInformation.TcpState.CloseWait);
        return client;
    }

    public void Close(Socket socket)
    {
        _owned.Remove(socket);
        socket.Dispose();
    }

    /// <summary>Polls the kernel's own table (through the BCL, not the collector) until the socket is in <paramref name="state"/>.</summary>
    public static void WaitForState(Socket socket, System.Net.NetworkInformation.TcpState state)
    {
        int local = ((IPEndPoint)socket.LocalEndPoint!).Port;
        int remote = ((IPEndPoint)socket.RemoteEndPoint!).Port;
        var clock = Stopwatch.StartNew();
        var spin = default(SpinWait);
        while (!IPGlobalProperties.GetIPGlobalProperties().GetActiveTcpConnections()
            .Any(c => c.LocalEndPoint.Port == local && c.RemoteEndPoint.Port == remote && c.State == state))
        {
            Assert.True(clock.Elapsed < Timeout, $"socket {local}->{remote} did not reach {state}");
            spin.SpinOnce();
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
