namespace Fleet.Server.Storage;

/// <summary>
/// What PostgreSQL text can hold: no NUL, and well-formed UTF-16 (an unpaired surrogate cannot be encoded as UTF-8).
/// Names checked before a query and strings cleaned before they are stored share this one rule.
/// </summary>
internal static class StoredText
{
    /// <summary>Whether the character at <paramref name="i"/> cannot be stored: a NUL, or a surrogate without its pair.</summary>
    public static bool IsUnstorableAt(string s, int i)
    {
        ArgumentNullException.ThrowIfNull(s);
        char c = s[i];
        return c == '\0'
            || (char.IsHighSurrogate(c) && (i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1])))
            || (char.IsLowSurrogate(c) && (i == 0 || !char.IsHighSurrogate(s[i - 1])));
    }

    public static bool IsStorable(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        for (int i = 0; i < s.Length; i++)
        {
            if (IsUnstorableAt(s, i))
            {
                return false;
            }
        }
        return true;
    }
}
