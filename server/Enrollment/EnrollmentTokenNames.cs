namespace Fleet.Server.Enrollment;

/// <summary>What an enrollment token's name may be: the rules of the command line's <c>tokens create NAME</c>.</summary>
public static class EnrollmentTokenNames
{
    public const int MaxLength = 64;

    /// <summary>Null when <paramref name="name"/> is a valid name, else why not.</summary>
    public static string? Problem(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "required (1 to 64 letters, digits, '-', '_' or '.')";
        }
        if (name.Length > MaxLength)
        {
            return $"{name.Length} characters, at most {MaxLength} allowed";
        }
        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return char.IsControl(c) || char.IsWhiteSpace(c)
                    ? $"may hold only letters, digits, '-', '_' or '.' (not U+{(int)c:X4})"
                    : $"may hold only letters, digits, '-', '_' or '.' (not '{c}')";
            }
        }
        return null;
    }
}
