<?php
/**
 * One-time set-up of the test site, run with php-cli by scripts/woo-test:
 *   php setup.php <site dir> install        WordPress, permalinks, WooCommerce activation
 *   php setup.php <site dir> key <keys.json> a Read/Write REST API key (in a fresh process,
 *                                            so WooCommerce is loaded as on any request)
 * Installs WordPress, turns on pretty permalinks (WooCommerce API keys are
 * refused on the ?rest_route= fallback), activates WooCommerce and creates a
 * Read/Write REST API key the way WooCommerce's own key screen stores it
 * (consumer_key = wc_api_hash(ck), secret in clear). No wp-cli needed.
 */
if ( PHP_SAPI !== 'cli' || $argc < 3 || ( 'key' === $argv[2] && $argc !== 4 ) ) {
	fwrite( STDERR, "usage: php setup.php <site dir> install|key <keys.json>\n" );
	exit( 2 );
}
$site = rtrim( $argv[1], '/' );
$mode = $argv[2];

if ( 'install' === $mode ) {
	define( 'WP_INSTALLING', true );
}
require $site . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

if ( 'install' === $mode ) {
	$t0 = microtime( true );
	add_filter( 'pre_wp_mail', '__return_false' );  // no "your new site" mail from a test box
	if ( ! is_blog_installed() ) {
		$result = wp_install( 'stockrelay test shop', 'shopadmin', 'shopadmin@example.invalid', false, '', wp_generate_password( 24 ) );
		if ( is_wp_error( $result ) ) {
			fwrite( STDERR, 'wp_install failed: ' . $result->get_error_message() . "\n" );
			exit( 1 );
		}
	}
	update_option( 'permalink_structure', '/%postname%/' );
	printf( "WordPress %s installed (%.1f s)\n", get_bloginfo( 'version' ), microtime( true ) - $t0 );
	$t0 = microtime( true );
	// Not silent: WooCommerce's activation hook runs WC_Install::install().
	$activated = activate_plugin( 'woocommerce/woocommerce.php' );
	if ( is_wp_error( $activated ) ) {
		fwrite( STDERR, 'activating WooCommerce failed: ' . $activated->get_error_message() . "\n" );
		exit( 1 );
	}
	printf( "WooCommerce activated (%.1f s)\n", microtime( true ) - $t0 );
	exit( 0 );
}

if ( ! function_exists( 'WC' ) || ! function_exists( 'wc_api_hash' ) ) {
	fwrite( STDERR, "WooCommerce is not loaded: activation did not stick\n" );
	exit( 1 );
}
update_option( 'woocommerce_manage_stock', 'yes' );
$keys_out = $argv[3];
global $wpdb;
$ck = 'ck_' . wc_rand_hash();
$cs = 'cs_' . wc_rand_hash();
$ok = $wpdb->insert(
	$wpdb->prefix . 'woocommerce_api_keys',
	array(
		'user_id'         => 1,
		'description'     => 'stockrelay test tier',
		'permissions'     => 'read_write',
		'consumer_key'    => wc_api_hash( $ck ),
		'consumer_secret' => $cs,
		'truncated_key'   => substr( $ck, -7 ),
	),
	array( '%d', '%s', '%s', '%s', '%s', '%s' )
);
if ( ! $ok ) {
	fwrite( STDERR, "cannot store the REST API key: {$wpdb->last_error}\n" );
	exit( 1 );
}
file_put_contents( $keys_out, wp_json_encode( array( 'consumer_key' => $ck, 'consumer_secret' => $cs, 'permissions' => 'read_write' ) ) );
chmod( $keys_out, 0600 );
printf( "WooCommerce %s: REST API key created (read_write)\n", WC()->version );
