using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Fleet.Server.Api;

/// <summary>
/// The API's JSON request bodies (an alert rule, a notification channel): read with a size bound, and every problem
/// answered as a validation problem (400) or 413 that names what is wrong.
/// </summary>
internal static class JsonBodies
{
    /// <summary>A rule or a channel is a few hundred bytes: a larger body is refused.</summary>
    public const int MaxBytes = 64 * 1024;

    /// <summary>
    /// Reads one <typeparamref name="T"/> from the body, at most <see cref="MaxBytes"/>. <paramref name="what"/> names
    /// it in problems ("alert rule"), <paramref name="hint"/> says what a valid body looks like.
    /// </summary>
    public static async Task<(T? Value, IResult? Problem)> ReadAsync<T>(HttpRequest request, JsonSerializerOptions json, string what, string hint, CancellationToken ct)
        where T : class
    {
        if (request.ContentLength > MaxBytes)
        {
            return (null, TooLarge(what));
        }
        byte[] buffer = new byte[MaxBytes + 1];
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await request.Body.ReadAsync(buffer.AsMemory(read), ct);
            if (n == 0)
            {
                break;
            }
            read += n;
        }
        if (read > MaxBytes)
        {
            return (null, TooLarge(what));
        }
        try
        {
            var value = read == 0 ? null : JsonSerializer.Deserialize<T>(buffer.AsSpan(0, read), json);
            return value is null ? (null, Invalid([$"body: a JSON {what} is required ({hint})"], what)) : (value, null);
        }
        catch (JsonException e)
        {
            string field = e.Path is { Length: > 2 } path ? path.TrimStart('$', '.') : "body";
            return (null, Invalid([$"{field}: not a valid value ({hint})"], what));
        }
    }

    /// <summary>Every "field: message" error under its field (errors without a field under "body"), as a 400 titled "Invalid <paramref name="what"/>".</summary>
    public static ValidationProblem Invalid(IReadOnlyList<string> errors, string what)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var byField = errors
            .Select(e => e.Split(':', 2))
            .GroupBy(p => p.Length == 2 ? p[0].Trim() : "body", p => p.Length == 2 ? p[1].Trim() : p[0])
            .ToDictionary(g => g.Key, g => g.ToArray());
        return TypedResults.ValidationProblem(byField, title: $"Invalid {what}", detail: string.Join("; ", errors));
    }

    private static ProblemHttpResult TooLarge(string what) =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: $"{char.ToUpperInvariant(what[0])}{what[1..]} too large", detail: $"at most {MaxBytes} bytes");
}
