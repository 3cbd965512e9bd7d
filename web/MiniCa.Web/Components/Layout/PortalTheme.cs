using MudBlazor;

namespace MiniCa.Web.Components.Layout;

/// <summary>The portal's colours: a calm blue for trust, clear reds and ambers for states that need attention.</summary>
internal static class PortalTheme
{
    public static MudTheme Theme { get; } = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#1e4e8c",
            Secondary = "#5c6b7a",
            AppbarBackground = "#1e4e8c",
            Background = "#f5f7fa",
            DrawerBackground = "#ffffff",
        },
        PaletteDark = new PaletteDark
        {
            Primary = "#7aa7e6",
            Secondary = "#9aa8b6",
            AppbarBackground = "#1b2433",
            Background = "#12171f",
            Surface = "#1b2230",
            DrawerBackground = "#161c27",
        },
        LayoutProperties = new LayoutProperties { DefaultBorderRadius = "6px" },
    };
}
