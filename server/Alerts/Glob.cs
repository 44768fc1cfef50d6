namespace Fleet.Server.Alerts;

/// <summary>Shell-style name patterns of rule scopes: <c>*</c> any run of characters, <c>?</c> one character; case-insensitive, whole name.</summary>
public static class Glob
{
    public static bool Matches(string pattern, string? text)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        if (text is null)
        {
            return false;
        }
        // Greedy match with one backtrack point (the last star): linear in practice, never exponential.
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || char.ToUpperInvariant(pattern[p]) == char.ToUpperInvariant(text[t])))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }
        return p == pattern.Length;
    }
}
