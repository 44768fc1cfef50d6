namespace Fleet.Web.Components;

/// <summary>Marks the UI assembly, so the server can add its pages (AddAdditionalAssemblies) once they exist.</summary>
public static class FleetWebAssembly
{
    public static System.Reflection.Assembly Assembly => typeof(FleetWebAssembly).Assembly;
}
