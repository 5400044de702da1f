"""Countries as ISO 3166-1 alpha-2 codes (django-countries), and reading a country a person typed.

Every country field of the registry is a `CountryField`: its form is a select of the ISO list, so
a name can no longer be cut to two letters and saved as another country's code.
"""

from django_countries import Countries, countries

UNKNOWN = "XX"


class CountriesOrUnknown(Countries):
    """The ISO 3166-1 list with XX, "Unknown", first (XX is the code ISO leaves to users): for a
    record that must name a country even when the source does not, such as a provider's seat."""

    override = {UNKNOWN: "Unknown"}
    first = [UNKNOWN]


countries_or_unknown = CountriesOrUnknown()


class NotACountry(ValueError):
    """A value that names no country (the message says what to give instead)."""


def country_code(value, allow_unknown=False):
    """The alpha-2 code of a code in any case ("mx") or an English name ("Mexico"); "" for blank.

    Raises NotACountry for anything else; XX (unknown) only where `allow_unknown`."""
    text = " ".join(str(value or "").split())
    if not text:
        return ""
    known = countries_or_unknown if allow_unknown else countries
    if len(text) == 2 and text.upper() in known:
        return text.upper()
    code = known.by_name(text)
    if code:
        return code
    raise NotACountry(f"'{text}' is not a country: give its ISO 3166 code (e.g. MX) or its English name (Mexico).")


def stored_country_code(value, allow_unknown=False):
    """`country_code` for a value the old two-letter text field saved, which cut a typed name to
    its first two letters ("Panama" became "Pa"). A code typed in upper or lower case is kept; a
    mixed-case pair ("Pa", "Me") may be a cut name, whose country cannot be known ("Me" is
    Montenegro's code, "Mexico" cut short), so it is refused rather than guessed."""
    text = str(value or "").strip()
    if len(text) == 2 and text.isalpha() and not (text.isupper() or text.islower()):
        raise NotACountry(f"'{text}' may be a country name cut to two letters: give the country's ISO 3166 code.")
    return country_code(text, allow_unknown=allow_unknown)
