namespace Fleet.Web.Components;

/// <summary>Marks the UI assembly: the server maps <see cref="App"/> as its root component.</summary>
public static class FleetWebAssembly
{
    public static System.Reflection.Assembly Assembly => typeof(FleetWebAssembly).Assembly;
}
